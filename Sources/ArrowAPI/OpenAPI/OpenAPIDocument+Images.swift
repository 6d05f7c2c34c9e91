extension OpenAPIDocument {
    static let imagePaths = """
      /api/vm_images/upload:
        post:
          summary: Upload an image (admin/superuser; 1 MiB to 2 GiB; 5 uploads per hour per user)
          description: >-
            The file streams through the format inspector and a SHA-256 digest into storage. A rejected upload leaves
            nothing behind and names the failed checks in `error.violations`. Fields may come before or after the file.
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file, name]
                  properties:
                    file: {type: string, format: binary, description: 'The image; its filename becomes file_name'}
                    name: {type: string, maxLength: 255}
                    description: {type: string}
                    software: {type: string, description: 'JSON list of {name, version, ansible_role}'}
                    ansible_flags: {type: string, description: 'JSON list of flag names, or object of flag to bool'}
                    sha256: {type: string, description: 'Hex SHA-256 the client computed; checked'}
                    previous_version_id: {type: string, description: 'Make this upload a new version of that image'}
                    organization_id: {type: string, description: 'Superusers: the owning organization'}
          responses:
            '201': {description: The active image, content: {application/json: {schema: {$ref: '#/components/schemas/Image'}}}}
            '401': {$ref: '#/components/responses/Error'}
            '403': {$ref: '#/components/responses/Error'}
            '413': {$ref: '#/components/responses/Error'}
            '415': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
            '429': {$ref: '#/components/responses/Error'}
      /api/vm_images/upload/sign:
        post:
          summary: Start a resumable multipart upload (1 MiB to 10 GiB), or re-sign parts of an open one
          description: >-
            Without upload_id, opens a session (takes one slot of the upload rate limit) and returns presigned PUT
            URLs for every part: to the bucket on B2/S3, to this server's /api/storage path locally. With upload_id,
            returns fresh URLs for part_numbers, or for every part not stored yet. Sessions expire after 24 hours.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  additionalProperties: false
                  properties:
                    upload_id: {type: string, description: Resume this session}
                    part_numbers: {type: array, items: {type: integer, minimum: 1, maximum: 10000}}
                    file_name: {type: string}
                    file_size: {type: integer, minimum: 1048576, maximum: 10737418240}
                    file_type: {type: string}
                    name: {type: string}
                    description: {type: string}
                    software: {type: array, items: {$ref: '#/components/schemas/Software'}}
                    ansible_flags: {oneOf: [{type: array, items: {type: string}}, {type: object, additionalProperties: {type: boolean}}]}
                    sha256: {type: string}
                    previous_version_id: {type: string}
                    organization_id: {type: string}
          responses:
            '200': {description: 'Fresh part URLs (none for an assembled session: complete it again)', content: {application/json: {schema: {$ref: '#/components/schemas/UploadSession'}}}}
            '201': {description: The new session, content: {application/json: {schema: {$ref: '#/components/schemas/UploadSession'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '413': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
            '429': {$ref: '#/components/responses/Error'}
      /api/vm_images/upload/complete:
        post:
          summary: Finish a multipart upload
          description: >-
            Checks that every part is stored with its exact size (409 parts_missing names the ones to send), assembles
            the object, inspects it with ranged reads, hashes it and activates the image; a rejected upload leaves
            nothing in storage and names the failed checks.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  additionalProperties: false
                  required: [upload_id]
                  properties: {upload_id: {type: string}, sha256: {type: string}}
          responses:
            '201': {description: The active image, content: {application/json: {schema: {$ref: '#/components/schemas/Image'}}}}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
            '503': {description: 'storage_unavailable: the store could not assemble the parts just now (the session stays open), or assembled them but could not be read back to check the object (the session is assembled); either way, complete again, with nothing to upload again', content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
      /api/vm_images/upload/{upload_id}:
        parameters: [{name: upload_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: A multipart upload session and the parts stored so far
          responses:
            '200': {description: The session, content: {application/json: {schema: {$ref: '#/components/schemas/UploadSession'}}}}
            '404': {$ref: '#/components/responses/Error'}
        delete:
          summary: Abort a multipart upload and discard its parts
          responses:
            '204': {description: Aborted}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
      /api/vm_images:
        get:
          summary: The caller's collection (custom, shared and public images; active unless status says otherwise)
          parameters:
            - {name: organization_id, in: query, schema: {type: string}}
            - {name: status, in: query, schema: {type: string, enum: [uploading, active, deleted]}}
            - {name: format, in: query, schema: {type: string, enum: [iso, qcow2, vmdk, vhd, vhdx, raw]}}
            - {name: q, in: query, description: Case-insensitive name substring, schema: {type: string}}
            - {name: collection, in: query, description: 'Comma-separated: custom, shared, public', schema: {type: string}}
            - {name: default, in: query, description: 'true: only the default images, in order', schema: {type: boolean}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
            - {name: offset, in: query, schema: {type: integer, minimum: 0}}
          responses:
            '200': {description: Images, content: {application/json: {schema: {$ref: '#/components/schemas/ImageList'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}:
        parameters: [{name: image_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: One image
          responses:
            '200': {description: The image, content: {application/json: {schema: {$ref: '#/components/schemas/Image'}}}}
            '404': {$ref: '#/components/responses/Error'}
        patch:
          summary: Edit metadata (name, description, software, ansible_flags); unknown keys are refused
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  additionalProperties: false
                  properties:
                    name: {type: string}
                    description: {type: string}
                    software: {type: array, items: {$ref: '#/components/schemas/Software'}}
                    ansible_flags: {oneOf: [{type: array, items: {type: string}}, {type: object, additionalProperties: {type: boolean}}]}
          responses:
            '200': {description: The image, content: {application/json: {schema: {$ref: '#/components/schemas/Image'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
        delete:
          summary: Soft-delete the image and remove its bytes
          description: >-
            Refused with 409 `image_in_use` while a queued or running build, or an open device request of any
            organization, still needs the image; the message counts them without naming other organizations' work.
          responses:
            '204': {description: Deleted}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/versions:
        parameters: [{name: image_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: This image and the versions it replaced, newest first
          responses:
            '200': {description: Images, content: {application/json: {schema: {$ref: '#/components/schemas/ImageList'}}}}
            '404': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/download:
        parameters: [{name: image_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: Redirect to a short-lived download URL (the bucket, or this server's signed path; Range honoured)
          responses:
            '302': {description: 'Location: the URL, valid for 5 minutes'}
            '404': {$ref: '#/components/responses/Error'}
        put:
          summary: Publish the image for download, copied to the public area (B2_PUBLIC_BUCKET, or the local store's) under a stable URL (download_url)
          responses:
            '200': {description: 'The image, with its download_url', content: {application/json: {schema: {$ref: '#/components/schemas/Image'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '503': {$ref: '#/components/responses/Error'}
        delete:
          summary: Unpublish the image (its public copy is removed)
          responses:
            '200': {description: The image, content: {application/json: {schema: {$ref: '#/components/schemas/Image'}}}}
            '404': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/shares:
        parameters: [{name: image_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: Organizations this image is shared with
          responses:
            '200': {description: Shares, content: {application/json: {schema: {$ref: '#/components/schemas/ShareList'}}}}
            '404': {$ref: '#/components/responses/Error'}
        post:
          summary: Share the image with another organization (read and use in builds, not edit)
          requestBody:
            required: true
            content: {application/json: {schema: {type: object, required: [organization_id], properties: {organization_id: {type: string}}}}}
          responses:
            '201': {description: Shares, content: {application/json: {schema: {$ref: '#/components/schemas/ShareList'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/shares/{org_id}:
        parameters:
          - {name: image_id, in: path, required: true, schema: {type: string}}
          - {name: org_id, in: path, required: true, schema: {type: string}}
        delete:
          summary: Stop sharing; the organization loses the image from its collection and defaults
          responses:
            '204': {description: Unshared}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/public:
        parameters: [{name: image_id, in: path, required: true, schema: {type: string}}]
        put:
          summary: Make the image public (in every organization's collection) or private again; superusers only
          requestBody:
            required: true
            content: {application/json: {schema: {type: object, required: [public], properties: {public: {type: boolean}}}}}
          responses:
            '200': {description: The image, content: {application/json: {schema: {$ref: '#/components/schemas/Image'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/metadata_files:
        parameters: [{name: image_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: The image's thumbnails and metadata documents
          responses:
            '200': {description: Files, content: {application/json: {schema: {$ref: '#/components/schemas/MetadataFileList'}}}}
            '404': {$ref: '#/components/responses/Error'}
        post:
          summary: Attach a thumbnail (PNG, JPEG, WebP) or a metadata document (.json, .yaml); 1 KiB to 10 MiB, content-checked
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema: {type: object, required: [file], properties: {file: {type: string, format: binary}}}
          responses:
            '201': {description: The file, content: {application/json: {schema: {$ref: '#/components/schemas/MetadataFile'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '413': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
      /api/vm_images/{image_id}/metadata_files/{file_id}:
        parameters:
          - {name: image_id, in: path, required: true, schema: {type: string}}
          - {name: file_id, in: path, required: true, schema: {type: string}}
        get:
          summary: Redirect to a short-lived URL of the file
          responses:
            '302': {description: 'Location: the URL, valid for 5 minutes'}
            '404': {$ref: '#/components/responses/Error'}
        delete:
          summary: Remove the file
          responses:
            '204': {description: Removed}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
      /api/organizations/{org_id}/default_images:
        parameters: [{name: org_id, in: path, required: true, schema: {type: string}}]
        get:
          summary: The organization's default images, in order (pre-selected for new build requests)
          responses:
            '200': {description: Images, content: {application/json: {schema: {$ref: '#/components/schemas/ImageList'}}}}
            '404': {$ref: '#/components/responses/Error'}
        put:
          summary: Replace the default images with this ordered list of active images from the collection
          description: With the organization's require_verified_images, every image needs a passed boot test (409 image_not_verified).
          requestBody:
            required: true
            content: {application/json: {schema: {type: object, required: [image_ids], properties: {image_ids: {type: array, maxItems: 50, items: {type: string}}}}}}
          responses:
            '200': {description: Images, content: {application/json: {schema: {$ref: '#/components/schemas/ImageList'}}}}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}
            '409': {$ref: '#/components/responses/Error'}
            '422': {$ref: '#/components/responses/Error'}
        delete:
          summary: Clear the default images
          responses:
            '204': {description: Cleared}
            '403': {$ref: '#/components/responses/Error'}
            '404': {$ref: '#/components/responses/Error'}

    """

    static let imageSchemas = """
        Software:
          type: object
          required: [name, version, ansible_role]
          properties: {name: {type: string}, version: {type: string}, ansible_role: {type: string}}
        Image:
          type: object
          properties:
            id: {type: string}
            name: {type: string}
            description: {type: [string, 'null']}
            file_name: {type: string}
            file_size: {type: integer}
            file_type: {type: string, description: MIME type of the detected format}
            b2_file_id: {type: string, description: Storage reference (object key)}
            organization: {type: string}
            software: {type: array, items: {$ref: '#/components/schemas/Software'}}
            ansible_flags:
              type: object
              properties: {install_vpn: {type: boolean}, harden_ssh: {type: boolean}, install_monitoring: {type: boolean}, apply_branding: {type: boolean}}
            format: {type: string, enum: [iso, qcow2, vmdk, vhd, vhdx, raw, unknown], description: 'unknown only while status is uploading (not inspected yet)'}
            virtual_size: {type: integer}
            sha256: {type: string}
            status: {type: string, enum: [uploading, active, deleted]}
            version: {type: integer}
            previous_version_id: {type: [string, 'null']}
            created_at: {type: string, format: date-time}
            updated_at: {type: string, format: date-time}
            public: {type: boolean}
            download_url: {type: string, description: The stable public download URL, when the image is published}
            collection: {type: string, enum: [custom, shared, public], description: Why it is in the caller's collection}
            default_position: {type: integer, description: Place among the organization's default images}
        UploadPart:
          type: object
          properties:
            part_number: {type: integer}
            size: {type: integer}
            etag: {type: string}
            method: {type: string}
            url: {type: string}
            headers: {type: object, additionalProperties: {type: string}}
            expires_at: {type: string, format: date-time}
        UploadSession:
          type: object
          properties:
            upload_id: {type: string}
            image_id: {type: string}
            status: {type: string, enum: [open, completing, assembled, completed, aborted, expired, rejected]}
            file_name: {type: string}
            file_size: {type: integer}
            part_size: {type: integer}
            part_count: {type: integer}
            parallel_parts: {type: integer, minimum: 1, description: 'How many parts to send at once: 1 on the local store, which hashes parts as they arrive in order; more on object storage'}
            expires_at: {type: string, format: date-time}
            uploaded_parts: {type: array, items: {$ref: '#/components/schemas/UploadPart'}}
            parts: {type: array, items: {$ref: '#/components/schemas/UploadPart'}}
        MetadataFile:
          type: object
          properties:
            id: {type: string}
            image_id: {type: string}
            kind: {type: string, enum: [thumbnail, document]}
            file_name: {type: string}
            content_type: {type: string, enum: [image/png, image/jpeg, image/webp, application/json, application/yaml]}
            file_size: {type: integer}
            sha256: {type: string}
            b2_file_id: {type: string, description: 'Storage reference, under metadata/'}
            created_at: {type: string, format: date-time}
        MetadataFileList:
          type: object
          properties: {items: {type: array, items: {$ref: '#/components/schemas/MetadataFile'}}}
        ShareList:
          type: object
          properties: {items: {type: array, items: {type: object, properties: {organization_id: {type: string}}}}}
        ImageList:
          type: object
          properties: {items: {type: array, items: {$ref: '#/components/schemas/Image'}}}

    """
}
