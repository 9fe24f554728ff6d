DROP TABLE document_signing_keys;
DROP TABLE documents;
