"""Profiles and saved addresses, the read models of the Profile aggregate: `projector` folds the
log into the tables `tables` defines, `queries` reads them within a tenant scope."""
