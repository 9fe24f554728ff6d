DROP TABLE referrals;
DROP TABLE preschool_places;
DROP TABLE queue_entries;
DROP TABLE preschools;
DROP TABLE queue_referral_terms;
DROP TABLE queue_priority_categories;
DROP TABLE queues;
