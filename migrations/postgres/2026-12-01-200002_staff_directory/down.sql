DROP TABLE staff_members;
