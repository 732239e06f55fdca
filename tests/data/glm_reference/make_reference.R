# R 4.2.2 (Debian r-base-core): glm reference for tests/test_propensity_irls.py
# Rscript tests/data/glm_reference/make_reference.R
d <- read.csv("tests/data/glm_reference/units.csv", stringsAsFactors = TRUE)
d$boy <- factor(d$boy, levels = c("False", "True"), labels = c("FALSE", "TRUE"))
fit <- glm(t ~ age + absence + year + special + region + boy, data = d, family = binomial)
out <- data.frame(score = fitted(fit), linear_predictor = fit$linear.predictors)
write.csv(format(out, digits = 17), "tests/data/glm_reference/r_fitted.csv", row.names = FALSE)
cf <- data.frame(term = names(coef(fit)), coefficient = format(coef(fit), digits = 17))
write.csv(cf, "tests/data/glm_reference/r_coefficients.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("iterations", fit$iter), format(fit$deviance, digits = 17)),
           "tests/data/glm_reference/r_info.txt")
