"""Orders, seller orders and carts as buyers and sellers see them: `projector` folds the log
into the read models, `queries` reads them within a tenant scope, `views` shapes rows as API.md
answers them."""
