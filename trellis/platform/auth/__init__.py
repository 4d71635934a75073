"""The auth part of the Trellis web platform."""
