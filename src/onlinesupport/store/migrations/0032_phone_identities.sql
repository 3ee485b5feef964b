-- Phone numbers are stored one way, whoever typed them (channels/phone/numbers.py, canonical):
-- the digits, after a '+' when written internationally ('+49 (0)30 123-456' and
-- '0049 30 123456' are both '+4930123456', as callback requests store them), so a customer
-- is found by their number however it is typed. What was typed is kept in 'shown' where it
-- differs, for the desk and the API to show. A number whose stored form another customer
-- already has keeps its typed value (two customers are not merged behind anyone's back).
ALTER TABLE customer_identities ADD COLUMN shown TEXT;
UPDATE customer_identities SET shown = value WHERE kind = 'phone';
CREATE TEMP TABLE phone_forms AS
    SELECT id, CASE WHEN typed LIKE '+%' THEN '+' || plus
                    WHEN digits LIKE '00%' THEN '+' || substr(digits, 3)
                    ELSE digits END AS canonical
    FROM (SELECT id, typed, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(typed, ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), '-', ''), '.', ''), '/', ''), '(', ''), ')', '') AS digits,
                 replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(substr(typed, 2), '(0)', ''), ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), '-', ''), '.', ''), '/', ''), '(', ''), ')', '') AS plus
          FROM (SELECT id, trim(value, ' ' || char(9) || char(10) || char(13)) AS typed
                FROM customer_identities WHERE kind = 'phone'));
UPDATE OR IGNORE customer_identities
    SET value = (SELECT coalesce(nullif(nullif(canonical, ''), '+'), value) FROM phone_forms f
                 WHERE f.id = customer_identities.id)
    WHERE kind = 'phone';
UPDATE customer_identities SET shown = NULL WHERE kind = 'phone' AND shown = value;
DROP TABLE phone_forms;
