DROP TABLE stock_items;
