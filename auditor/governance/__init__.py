"""Data governance: representativeness, data quality and privacy computations on the audit data."""
