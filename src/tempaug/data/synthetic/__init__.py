"""A generated video dataset written in the real UCF-101 / HMDB-51 layouts (the embedded default).

Machines without UCF-101 or HMDB-51 run every stage on this dataset, through the *same* code as
the real data: real video files (MPEG-4 Part 2 in AVI, like UCF-101's XviD files, encoded with
PyAV and decodable by any FFmpeg build) and split lists in exactly the official formats, parsed by
:mod:`tempaug.data.splits` and decoded by :mod:`tempaug.data.video`.

Classes are defined by **temporal structure only**: each video shows one object (random shape,
colour and stripe texture) among static distractor shapes on a random textured background, with
per-frame sensor noise and brightness flicker (and optional nuisances, below). What distinguishes
the classes is how the object changes over time: direction (``MoveUp``), speed profile (``SpeedUp``), order of events
(``StartMoving``), rotation (``Spin``), appear/vanish timing (``Appear``) and so on. Six classes are
exact time reversals of six others (``MoveDown`` is ``MoveUp`` played backwards, with the same
random draws), so within such a pair the *set* of frames has the same distribution: no single
frame, and no statistic pooled over time without order, can separate them (tested). Across the
other classes, single frames show the same kinds of objects, backgrounds and distractors (no class
has its own colours or shapes), so a frame alone carries about chance-level information (tested
on the first six classes). Classes are invariant under horizontal flip (directions are vertical or random), so the paper's flip
augmentation never changes a label. Video lengths vary in ``[frames / 2, 3 * frames / 2]``, so some
are shorter than a training clip and get looped.

Deterministic: the same arguments give the same decoded frames (and, with the same FFmpeg build,
the same bytes). Each video's content depends only on ``(seed, class, clip)``, and every video
draws its own scene (background and object appearance) from a generator separate from its
dynamics. So no scene can stand in for a class and the model has as many scenes to generalise
from as videos. (Generator version 1 shared a scene per UCF-101 group and class, as real groups
share an actor and a place: small models memorised the scenes and stayed at chance on the unseen
validation groups. Sharing one scene across all classes of a group instead left only nine
training scenes, which they overfit. The group-wise split lists are unchanged.)

Natural temporal variation (generator version 4): besides the always-present sensor noise (a 4 %
per-frame gain jitter and 2 % luminance noise), every video can carry *nuisances* that real footage
has and that the paper's RandAugment-T imitates (Sec. 3.1: brightness, colour, contrast and affine
operations whose magnitude varies over the clip), chosen with :class:`Nuisances`:

* illumination ``drift`` (slow brightness change: lighting, auto-exposure) and ``flicker``
  (frame-to-frame brightness jitter: fluorescent light, compression) — RandAugment-T's temporally
  varying *Brightness*;
* camera ``shake`` (a smooth random walk of small translations: hand-held camera) and ``zoom``
  (a gradual scale change about a random centre: zooming camera) — its temporally varying
  *TranslateX/Y* and affine operations;
* an ``occluder`` (a semi-opaque bar of random colour passing through the frame during a random
  interval: someone walking past the camera) in a fraction of videos;
* static ``colour`` cast (white balance) and ``contrast`` — its *Color* and *Contrast*;
* ``partial`` action: in a fraction of videos the object's dynamics run over a random
  sub-interval only (the state is held before and after), so temporal localisation matters, as in
  untrimmed real clips.

Nuisances are drawn *independently per video* (a generator of their own, keyed on ``(seed,
class, clip)``) by one procedure that never sees the class (:func:`sample_nuisances`), so every
class has the same nuisance distribution and no nuisance statistic can reveal the label. They are applied inside the forward rendering, so a time-
reversed class is still exactly the frame reversal of its partner (its drift runs backwards); every
nuisance process is time-reversible in distribution, so running backwards reveals nothing. With
every strength zero (``Nuisances.none()``, the default) the frames are exactly those of version 3.

Idempotent: a manifest written last marks a complete dataset; calling :func:`generate` again with
the same arguments returns immediately, so DVC stages and notebooks can call it freely.

Modules, by job:

* :mod:`.motions`: the classes, their object dynamics programs and names;
* :mod:`.nuisances`: :class:`Nuisances`, their per-video draws (:func:`sample_nuisances`) and
  their application to frames;
* :mod:`.rendering`: scenes and frames (:func:`render`, :func:`object_state`);
* :mod:`.writing`: video files, split lists and manifest (:func:`generate`);
* :mod:`.rng`: the seeded generators and draws they share.
"""

from .motions import CLASSES, REVERSE_OF, class_names
from .nuisances import NUISANCE_KINDS, NuisanceDraw, Nuisances, sample_nuisances
from .rendering import SCENES, Scene, object_state, render
from .writing import CODEC, FPS, GENERATOR_VERSION, GeneratedDataset, generate

__all__ = [
    "CLASSES",
    "CODEC",
    "FPS",
    "GENERATOR_VERSION",
    "NUISANCE_KINDS",
    "REVERSE_OF",
    "SCENES",
    "GeneratedDataset",
    "NuisanceDraw",
    "Nuisances",
    "Scene",
    "class_names",
    "generate",
    "object_state",
    "render",
    "sample_nuisances",
]
