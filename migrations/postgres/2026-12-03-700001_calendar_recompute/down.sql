DROP TABLE calendar_recomputes;
