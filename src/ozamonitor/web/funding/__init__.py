"""Who pays, in the web application: the advisor form, funding maps, region matrices, summaries."""
