"""Core of the web application: organisations, memberships, tokens, audit and health pages."""
