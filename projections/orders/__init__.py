"""Orders, seller orders and carts as buyers and sellers see them: `projector` and `carts` fold
the log into the read models `tables` defines (the orders projector writing returns' and
refunds' rows through `returns` and `refunds`), `queries` reads them within a tenant scope,
`views` shapes rows as API.md answers them."""
