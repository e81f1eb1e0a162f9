from __future__ import annotations

from typing import Any

from django.db import migrations

TEXT_EN = """What this service is
A specialist reviews the information, files and images you send and writes a report with their opinion. It is a remote review: the specialist does not examine you in person.

What it is not
It does not replace an in-person examination by your own doctors, and it is not for emergencies. If you have urgent symptoms, call your local emergency number or go to an emergency department. The specialist may recommend that you are seen in person.

Limits of a remote opinion
The opinion depends on the quality and completeness of what you send. Photos, reports and scans may not show everything. The report says how certain the specialist is and what is missing.

Who sees your data
The specialist assigned to your case, and colleagues they consult about it, see its content. Administrators manage the service but do not read clinical content, except in an emergency access that is recorded and reviewed. You can see who accessed your case.

How it is protected
Your files are encrypted before they are stored, with a key that belongs to you alone. Every access is recorded in an audit trail that cannot be changed.

How long we keep it
We keep your case for the retention period required where you live, and then delete it automatically. The record of who accessed it is kept for at least 6 years.

Your rights
You can download everything you sent, withdraw your case at any time, withdraw this consent (which withdraws the case), and ask us to delete your data. Deletion destroys your encryption key, so no copy, not even a backup, can be read again."""

TEXT_ES = """Qué es este servicio
Un especialista revisa la información, los archivos y las imágenes que usted envía y escribe un informe con su opinión. Es una revisión a distancia: el especialista no le examina en persona.

Qué no es
No sustituye la exploración en persona por sus propios médicos y no es para urgencias. Si tiene síntomas urgentes, llame al número de emergencias de su zona o acuda a un servicio de urgencias. El especialista puede recomendarle que le vean en persona.

Límites de una opinión a distancia
La opinión depende de la calidad y de lo completo que sea lo que envía. Las fotos, los informes y las imágenes pueden no mostrarlo todo. El informe indica cuánta certeza tiene el especialista y qué falta.

Quién ve sus datos
El especialista asignado a su caso, y los colegas a quienes consulte sobre él, ven su contenido. Los administradores gestionan el servicio pero no leen el contenido clínico, salvo en un acceso de emergencia que queda registrado y se revisa. Usted puede ver quién ha accedido a su caso.

Cómo se protegen
Sus archivos se cifran antes de guardarse, con una clave que solo le pertenece a usted. Cada acceso queda registrado en un registro de auditoría que no se puede modificar.

Cuánto tiempo los conservamos
Conservamos su caso durante el plazo que exige la ley del lugar donde vive y después lo eliminamos automáticamente. El registro de quién accedió se conserva al menos 6 años.

Sus derechos
Puede descargar todo lo que envió, retirar su caso en cualquier momento, retirar este consentimiento (lo que retira el caso) y pedirnos que eliminemos sus datos. La eliminación destruye su clave de cifrado, de modo que ninguna copia, ni siquiera una copia de seguridad, podrá volver a leerse."""


def create(apps: Any, schema_editor: Any) -> None:
    ConsentVersion = apps.get_model("cases", "ConsentVersion")
    ConsentVersion.objects.get_or_create(version=1, defaults={"text_en": TEXT_EN, "text_es": TEXT_ES})


def remove(apps: Any, schema_editor: Any) -> None:
    apps.get_model("cases", "ConsentVersion").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
