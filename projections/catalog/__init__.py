"""Sellers and the catalog as buyers, sellers and admins see them: `sellers` and `projector`
(with `variants`) fold the log into the read models `tables` defines, `queries` reads them within
a tenant scope, `views` shapes rows as API.md answers them."""
