"""SalesInsights: an e-commerce event log turned into live sales and nightly customer lifetime value."""
