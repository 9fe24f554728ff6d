DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE subscriptions;
ALTER TABLE events DROP COLUMN service_key;
