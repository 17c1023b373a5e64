-- The language a person asked for their recovery in (a shipped language's tag, such as `de`):
-- its emails and texts are written in it, and their links carry it, so that the page opened
-- from an email speaks the email's language. NULL: the user's Cognito `locale`, else
-- DEFAULT_LOCALE (support-started recoveries, and requests that named no shipped language).
ALTER TABLE recoveries ADD COLUMN language text;
