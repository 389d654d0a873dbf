"""Geometry core: CRS, repair, overlay engine and raster helpers.

Knows geometry, coordinates and rasters; nothing of reserves or leads.
"""
