"""Numeric kernels on numpy arrays: grouped counts, rates, disparities, intervals.

Nothing here knows about pandas, policies or reports; every function takes and returns arrays.
"""
