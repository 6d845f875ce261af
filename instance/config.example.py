# Local configuration for this installation. Copy to instance/config.py.
# Environment variables (SECRET_KEY, DATABASE_URL, MAIL_*) override what is set here.

# SECRET_KEY = "a long random string: python -c 'import secrets; print(secrets.token_hex(32))'"
# DATABASE_URL = "postgresql+psycopg://grantflow@127.0.0.1:5432/grantflow"
# GRANTFLOW_ENV = "production"   # refuses the default secret key, secure cookies
# PUBLIC_URL = "https://granti.example.lv"

# MAIL_SERVER = "smtp.example.lv"
# MAIL_PORT = 587
# MAIL_USE_TLS = True
# MAIL_USERNAME = "granti@example.lv"
# MAIL_PASSWORD = "..."
# MAIL_DEFAULT_SENDER = "Darbīgās kopienas <granti@example.lv>"
# MAIL_DELIVERY = "thread"   # thread | inline | off (then run `flask --app grantflow mail send` from cron)

# Staff roles beyond applicant, evaluator, administrator and municipality (README, "Staff roles"):
# STAFF_ROLES = {
#     "programme_staff": {
#         "label": {"lv": "Programmas darbinieks", "en": "Programme staff"},
#         "capabilities": ["screen", "assign", "moderate", "see_reviews", "see_documents"],
#     },
# }
