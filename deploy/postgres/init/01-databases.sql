-- One database per service and one for the portal (docker-compose runs this once, on an empty
-- PostgreSQL volume).
CREATE DATABASE sanpi_registry;
CREATE DATABASE sanpi_milestone;
CREATE DATABASE sanpi_notification;
CREATE DATABASE sanpi_portal;
