"""Identity: tenants and users. `projector` folds the log into the read models `tables`
defines, `queries` reads them within a tenant scope."""
