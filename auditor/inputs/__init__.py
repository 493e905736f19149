"""Loading and validating everything the user hands in: data, labels, models."""
