"""Alembic environment: runs the migrations on the connection the store hands over."""

from alembic import context

connection = context.config.attributes["connection"]
schema = context.config.attributes.get("schema")
context.configure(connection=connection, version_table_schema=schema,
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
