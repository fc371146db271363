"""One hash chain per organization (docs/decisions/0108-audit-chain-per-organization.md): every entry
gets a `chain`; the entries written so far form one chain, `global`, which still verifies as it was
(its sequence numbers and hashes are untouched; adding a column with a default rewrites no row, so the
append-only trigger is not involved). `sequence` becomes unique per chain."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_invitation'),
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditentry',
            options={'ordering': ['id'], 'verbose_name_plural': 'audit entries'},
        ),
        migrations.AddField(
            model_name='auditentry',
            name='chain',
            field=models.CharField(default='global', max_length=40),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='sequence',
            field=models.BigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name='auditentry',
            constraint=models.UniqueConstraint(fields=('chain', 'sequence'), name='audit_chain_sequence'),
        ),
    ]
