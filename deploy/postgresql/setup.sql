-- 防災チャットボット: roles and databases (run once as postgres: psql -f setup.sql).
-- Replace CHANGE-ME with the password that DATABASE_URL and TRACKER_STORE_URL carry.
CREATE ROLE bosai LOGIN PASSWORD 'CHANGE-ME';
-- the report store (bosai db upgrade creates its tables)
CREATE DATABASE bosai OWNER bosai ENCODING 'UTF8' TEMPLATE template0;
-- Rasa's tracker store (Rasa creates its table at the first start)
CREATE DATABASE bosai_tracker OWNER bosai ENCODING 'UTF8' TEMPLATE template0;
