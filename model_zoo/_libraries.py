"""torch, torchvision and Ultralytics, imported completely by one thread before any other
thread uses them.

Every module of this package that needs them imports this one first. Browser sessions run
in threads of one server process, and two sessions importing torchvision at the same
moment can leave one of them holding a half-initialised module (seen on the Learn page as
``AttributeError: module 'torchvision' has no attribute '_is_tracing'``). Python holds this
module's import lock while its body runs, so every other thread waits here until all three
libraries are complete.
"""

import torch  # noqa: F401
import torchvision
import torchvision.models.detection  # noqa: F401
import ultralytics  # noqa: F401
