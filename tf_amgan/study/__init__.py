"""Reproduction studies: paper grids as data (specs), a resumable runner, and the report."""
