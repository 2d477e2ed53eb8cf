BEGIN;
--
-- Create model Genre
--
CREATE TABLE "library_genre" ("code" varchar(10) NOT NULL PRIMARY KEY, "label" varchar(50) NOT NULL);
--
-- Create model Publisher
--
CREATE TABLE "publishers" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL, "country" varchar(2) NOT NULL);
--
-- Create model Author
--
CREATE TABLE "library_author" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL UNIQUE, "born" date NULL, "mentor_id" bigint NULL REFERENCES "library_author" ("id") DEFERRABLE INITIALLY DEFERRED);
--
-- Create model Book
--
CREATE TABLE "library_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "published" date NOT NULL, "price" decimal NOT NULL, "in_print" bool NOT NULL, "added_at" datetime NOT NULL, "metadata" text NOT NULL CHECK ((JSON_VALID("metadata") OR "metadata" IS NULL)), "author_id" bigint NOT NULL REFERENCES "library_author" ("id") DEFERRABLE INITIALLY DEFERRED, "publisher_id" bigint NULL REFERENCES "publishers" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "library_book_genres" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "book_id" bigint NOT NULL REFERENCES "library_book" ("id") DEFERRABLE INITIALLY DEFERRED, "genre_id" varchar(10) NOT NULL REFERENCES "library_genre" ("code") DEFERRABLE INITIALLY DEFERRED);
--
-- Create model Review
--
CREATE TABLE "library_review" ("id" char(32) NOT NULL PRIMARY KEY, "rating" smallint unsigned NOT NULL CHECK ("rating" >= 0), "body" text NOT NULL, "book_id" bigint NOT NULL REFERENCES "library_book" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "library_author_mentor_id_774c4db9" ON "library_author" ("mentor_id");
CREATE INDEX "library_book_author_id_d9a3b67e" ON "library_book" ("author_id");
CREATE INDEX "library_book_publisher_id_40a14e76" ON "library_book" ("publisher_id");
CREATE UNIQUE INDEX "library_book_genres_book_id_genre_id_b32565fa_uniq" ON "library_book_genres" ("book_id", "genre_id");
CREATE INDEX "library_book_genres_book_id_e53979d1" ON "library_book_genres" ("book_id");
CREATE INDEX "library_book_genres_genre_id_46b8d19a" ON "library_book_genres" ("genre_id");
CREATE INDEX "library_review_book_id_3ba0bb54" ON "library_review" ("book_id");
COMMIT;
