"""The arrangements registry: initiatives, arrangements, attachments, Besluit checks."""
