DROP TABLE IF EXISTS structured_rows;
DROP TABLE IF EXISTS structured_files;
DROP TABLE IF EXISTS file_texts;
