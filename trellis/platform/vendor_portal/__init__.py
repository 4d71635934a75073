"""The vendor pages, API and commands of the Trellis web platform."""
