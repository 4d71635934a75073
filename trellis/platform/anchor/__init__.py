"""The anchor pages, API and commands of the Trellis web platform."""
