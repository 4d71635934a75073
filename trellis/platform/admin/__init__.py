"""The admin part of the Trellis web platform."""
