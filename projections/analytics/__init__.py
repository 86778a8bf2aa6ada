"""The analytics dashboards: `projector` folds the log into daily facts and running totals,
`facts` adds each event into them, `queries` reads a dashboard from them within a tenant scope."""
