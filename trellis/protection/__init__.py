"""Protection of vendors from fraud: warnings as data chosen for the person and the
moment, and bank-account change requests that wait, notify and warn. No Flask here."""
