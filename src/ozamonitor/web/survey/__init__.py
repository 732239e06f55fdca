"""The four-level questionnaire in the web application: waves, answers, exports."""
