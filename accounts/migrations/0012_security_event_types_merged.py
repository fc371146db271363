"""SecurityEvent.event_type choices as the API key (0005), key rotation (0007) and notification (0010) changes
left them together (each of those migrations knew only its own)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0011_gdpr'),
    ]

    operations = [
        migrations.AlterField(
            model_name='securityevent',
            name='event_type',
            field=models.CharField(choices=[('signup', 'Signup'), ('login_success', 'Login Success'), ('login_failure', 'Login Failure'), ('login_locked', 'Login Locked'), ('lockout', 'Lockout'), ('unlock', 'Unlock'), ('logout', 'Logout'), ('token_refresh', 'Token Refresh'), ('refresh_reuse', 'Refresh Reuse'), ('password_change', 'Password Change'), ('key_use', 'Key Use'), ('key_derived', 'Key Derived'), ('api_key_created', 'Api Key Created'), ('api_key_revoked', 'Api Key Revoked'), ('api_key_ip_refused', 'Api Key Ip Refused'), ('key_destroyed', 'Key Destroyed')], db_index=True, max_length=32),
        ),
    ]
