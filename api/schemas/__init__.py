"""Request and response shapes, one module per part of the API (common, account, models,
images, packs). Requests refuse unknown fields, so a typo is an error rather than a silently
ignored option. Importers take the names from here."""

from api.schemas.account import (
    BaseModelOut,
    CreditEntryOut,
    CreditsOut,
    MeOut,
    ModelSlots,
    PlanOut,
    StyleOut,
)
from api.schemas.common import (
    AspectRatio,
    BaseModelId,
    ModelStatus,
    RequestSchema,
    StyleId,
    SubjectClass,
    TextChecked,
)
from api.schemas.images import (
    BulkDeleteOut,
    FailureOut,
    GenerationCreatedOut,
    GenerationIn,
    GenerationOut,
    ImageIdsIn,
    ImageListOut,
    ImageOut,
    ImagePatchIn,
    ShareOut,
)
from api.schemas.models import (
    ConsentOut,
    ConsentStateOut,
    LikenessAtScaleOut,
    LikenessReportOut,
    ModelIn,
    ModelListOut,
    ModelOut,
    PhotoListOut,
    PhotoOut,
    PhotoUploadOut,
    RejectedPhotoOut,
    TrainIn,
    TrainingEventOut,
    TrainingListOut,
    TrainingOut,
)
from api.schemas.packs import (
    ExpandIn,
    ExpandOut,
    PackPromptOut,
    PicturePackIn,
    PicturePackOut,
    PicturePackRunOut,
)

__all__ = [
    'AspectRatio', 'BaseModelId', 'ModelStatus', 'RequestSchema', 'StyleId', 'SubjectClass',
    'TextChecked', 'ModelSlots', 'MeOut', 'CreditEntryOut', 'CreditsOut', 'PlanOut',
    'BaseModelOut', 'StyleOut', 'ModelIn', 'LikenessAtScaleOut', 'LikenessReportOut',
    'ModelOut', 'ConsentOut', 'ConsentStateOut', 'ModelListOut', 'PhotoOut', 'PhotoListOut',
    'RejectedPhotoOut', 'PhotoUploadOut', 'TrainIn', 'TrainingEventOut', 'TrainingOut',
    'TrainingListOut', 'GenerationIn', 'GenerationCreatedOut', 'ImageOut', 'FailureOut',
    'GenerationOut', 'ImageListOut', 'ImagePatchIn', 'ShareOut', 'ImageIdsIn', 'BulkDeleteOut',
    'PackPromptOut', 'PicturePackOut', 'PicturePackIn', 'PicturePackRunOut', 'ExpandIn',
    'ExpandOut',
]
