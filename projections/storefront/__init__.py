"""The publishable keys read model: what a marketplace admin's list of keys shows. It holds each
key's name, its hint (last characters) and when it was made and deleted; never the key or its
digest. Nothing checks a key against this model: a guest's key is checked against its aggregate
(services/storefront.py), so a deletion holds before this model has caught up.

`projector` folds the log into the table `tables` defines, `queries` reads it within a tenant
scope."""
