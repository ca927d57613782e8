//! One S3 service for every user: each request runs as the Alluxio user its access key names,
//! through the proxy's one connection acting for that user (impersonation). With signatures
//! checked the key comes from the verified credentials; without, the dispatcher reads it from
//! the request and passes it as [`NamedUser`]. A request naming nobody (or the proxy's own
//! user) runs as the proxy and sees every bucket.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, S3};

use super::AlluxioS3;

/// The access key of an unsigned request, put in its extensions by the dispatcher.
#[derive(Debug, Clone)]
pub struct NamedUser(pub String);

/// The S3 API over [`AlluxioS3`], per request user.
pub struct Gateway {
    base: AlluxioS3,
}

impl Gateway {
    pub fn new(base: AlluxioS3) -> Self {
        Gateway { base }
    }

    fn for_request<T>(&self, req: &S3Request<T>) -> AlluxioS3 {
        let user = match &req.credentials {
            Some(c) => Some(c.access_key.as_str()),
            None => req.extensions.get::<NamedUser>().map(|u| u.0.as_str()),
        };
        self.base.for_user(user)
    }
}

/// Forwards each listed operation to the requesting user's [`AlluxioS3`].
macro_rules! per_user {
    ($($op:ident: $input:ident => $output:ident;)*) => {
        #[async_trait::async_trait]
        impl S3 for Gateway {
            $(
                async fn $op(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    self.for_request(&req).$op(req).await
                }
            )*
        }
    };
}

per_user! {
    list_buckets: ListBucketsInput => ListBucketsOutput;
    create_bucket: CreateBucketInput => CreateBucketOutput;
    delete_bucket: DeleteBucketInput => DeleteBucketOutput;
    head_bucket: HeadBucketInput => HeadBucketOutput;
    get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
    put_object: PutObjectInput => PutObjectOutput;
    get_object: GetObjectInput => GetObjectOutput;
    head_object: HeadObjectInput => HeadObjectOutput;
    delete_object: DeleteObjectInput => DeleteObjectOutput;
    delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
    copy_object: CopyObjectInput => CopyObjectOutput;
    list_objects: ListObjectsInput => ListObjectsOutput;
    list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
    create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
    upload_part: UploadPartInput => UploadPartOutput;
    list_parts: ListPartsInput => ListPartsOutput;
    complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput;
    abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput;
    get_object_tagging: GetObjectTaggingInput => GetObjectTaggingOutput;
    put_object_tagging: PutObjectTaggingInput => PutObjectTaggingOutput;
    delete_object_tagging: DeleteObjectTaggingInput => DeleteObjectTaggingOutput;
}
