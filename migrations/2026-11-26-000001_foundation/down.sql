DROP TABLE partners;
DROP TABLE products;
DROP TABLE tenants;
