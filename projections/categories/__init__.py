"""Categories, the read model of each tenant's category tree: `projector` folds the log into
the table `tables` defines, `queries` reads the tree within a tenant scope."""
