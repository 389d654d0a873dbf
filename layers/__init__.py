"""The domain layers: leads, reserves and zones, wetlands, mines, counties."""
