"""The home part of the Trellis web platform."""
