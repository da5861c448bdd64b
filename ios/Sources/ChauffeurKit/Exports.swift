// An app imports ChauffeurKit only: the generated records, enums and RiderApp come with it.
@_exported import ChauffeurSDK
