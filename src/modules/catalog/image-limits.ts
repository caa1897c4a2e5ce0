/** 5 MB: the upload limit of API.md, enforced on the bytes as they arrive. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** The whole multipart request: the image plus room for the part headers and boundaries. */
export const MAX_IMAGE_REQUEST_BYTES = MAX_IMAGE_BYTES + 64 * 1024;
