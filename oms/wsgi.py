import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, the URL map) lives as long as the process: move it
# out of the garbage collector's generations, so full collections stay short. Measured in
# bench/availability: p95 of a 20-SKU availability call dropped from 46 ms to 24 ms.
gc.freeze()
