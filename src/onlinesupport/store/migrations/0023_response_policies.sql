-- A conversation's own next-answer target (set by a rule, e.g. by customer tier), and the
-- response-time policies shipped as example rules: switched off, ready to edit and switch on.
ALTER TABLE conversations ADD COLUMN next_response_minutes INTEGER;

INSERT INTO routing_rules (position, name, active, trigger, conditions, actions, created_at, updated_at)
VALUES
 (1, 'Example: standard customers within 40 minutes', 0, 'new', 'tier is standard',
  'first_response 40', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
 (2, 'Example: sales questions within 30 minutes', 0, 'new', 'question_type is Sales',
  'first_response 30', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
 (3, 'Example: billing questions within 2 hours', 0, 'new', 'question_type is Billing',
  'first_response 120', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
 (4, 'Example: preferred customers within 5 minutes', 0, 'new', 'tier is preferred',
  'first_response 5' || char(10) || 'next_response 15' || char(10) || 'priority 1',
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
