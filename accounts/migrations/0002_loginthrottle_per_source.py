"""Login lockout per (e-mail, source) with doubling locks, instead of one lock per e-mail that
anyone could trigger for everyone. Existing rows become the "unknown" source."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="loginthrottle",
            name="email",
            field=models.CharField(max_length=254),
        ),
        migrations.AddField(
            model_name="loginthrottle",
            name="source",
            field=models.CharField(default="unknown", max_length=64),
        ),
        migrations.AddField(
            model_name="loginthrottle",
            name="lock_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="loginthrottle",
            constraint=models.UniqueConstraint(fields=("email", "source"), name="accounts_loginthrottle_email_source"),
        ),
        migrations.AddIndex(
            model_name="loginthrottle",
            index=models.Index(fields=["email"], name="accounts_loginthrottle_email"),
        ),
    ]
