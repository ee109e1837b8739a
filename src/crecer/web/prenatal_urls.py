from django.urls import path

from crecer.web import prenatal

urlpatterns = [
    path("caregivers/new/", prenatal.caregiver_new, name="caregiver-new"),
    path("pregnancies/new/", prenatal.pregnancy_new, name="pregnancy-new"),
    path("pregnancies/<int:pregnancy_id>/birth/", prenatal.pregnancy_birth, name="pregnancy-birth"),
    path("pregnancies/<int:pregnancy_id>/refer/", prenatal.pregnancy_refer, name="pregnancy-refer"),
]
