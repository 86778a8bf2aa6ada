"""Sellers and the catalog as buyers, sellers and admins see them: `projector` folds the log
into the read models, `queries` reads them within a tenant scope, `views` shapes rows as API.md
answers them."""
